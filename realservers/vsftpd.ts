// vsftpd as the lab's FTP real server: where the binary is, and the configuration the lab
// writes for it. Anonymous FTP with a writable pub/ directory, passive ports in a fixed
// range, active-mode data from port 20, pasv_address only when given (under NAT the director
// rewrites the 227 reply: that is the point of the FTP helper; a DR real server names the VIP
// itself, since the director forwards frames unchanged), and nothing that breaks inside a network
// namespace (no seccomp sandbox, no further namespaces of its own).
import fs from "node:fs";

const VSFTPD_PATHS = ["/usr/sbin/vsftpd", "/usr/bin/vsftpd", "/sbin/vsftpd"];

/** Path of the vsftpd binary, or null when it is not installed. */
export function findVsftpd(): string | null {
  return VSFTPD_PATHS.find((p) => fs.existsSync(p)) ?? null;
}

export interface VsftpdOptions {
  listenAddress: string;
  listenPort: number;
  /** Anonymous root (owned by root, not writable); uploads go to its pub/ directory. */
  root: string;
  /** An empty directory owned by root (vsftpd's secure_chroot_dir). */
  emptyDir: string;
  /** The unprivileged user sessions run as and anonymous files belong to. */
  ftpUser: string;
  pasvMinPort: number;
  pasvMaxPort: number;
  /** The address 227 replies name (vsftpd's pasv_address); absent: the control connection's. */
  pasvAddress?: string;
  logFile: string;
}

/** The vsftpd.conf text for the lab's server. */
export function renderVsftpdConfig(o: VsftpdOptions): string {
  const lines: [string, string | number][] = [
    ["listen", "YES"],
    ["listen_ipv6", "NO"],
    ["listen_address", o.listenAddress],
    ["listen_port", o.listenPort],
    ["background", "NO"],
    ["anonymous_enable", "YES"],
    ["no_anon_password", "YES"],
    ["anon_root", o.root],
    ["write_enable", "YES"],
    ["anon_upload_enable", "YES"],
    ["anon_mkdir_write_enable", "YES"],
    ["anon_other_write_enable", "YES"],
    ["anon_umask", "022"],
    ["anon_world_readable_only", "NO"],
    ["local_enable", "NO"],
    ["ftp_username", o.ftpUser],
    ["nopriv_user", o.ftpUser],
    ["secure_chroot_dir", o.emptyDir],
    ["pasv_enable", "YES"],
    ["pasv_min_port", o.pasvMinPort],
    ["pasv_max_port", o.pasvMaxPort],
    ...(o.pasvAddress ? [["pasv_address", o.pasvAddress] as [string, string]] : []),
    ["pasv_promiscuous", "NO"],
    ["port_enable", "YES"],
    ["port_promiscuous", "NO"],
    ["connect_from_port_20", "YES"],
    ["ftp_data_port", 20],
    ["seccomp_sandbox", "NO"],
    ["isolate", "NO"],
    ["isolate_network", "NO"],
    ["session_support", "NO"],
    ["tcp_wrappers", "NO"],
    ["dirmessage_enable", "NO"],
    ["hide_ids", "YES"],
    ["max_clients", 200],
    ["max_per_ip", 100],
    ["idle_session_timeout", 600],
    ["data_connection_timeout", 120],
    ["xferlog_enable", "YES"],
    ["xferlog_std_format", "NO"],
    ["log_ftp_protocol", "YES"],
    ["vsftpd_log_file", o.logFile],
  ];
  return `# Written by lvslab's ftp-server; do not edit.\n${
    lines.map(([k, v]) => `${k}=${v}`).join("\n")
  }\n`;
}
