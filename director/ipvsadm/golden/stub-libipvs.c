/*
 * A stand-in for ipvsadm 1.31's libipvs/libipvs.c, so that ipvsadm.c prints its real
 * list formats and error messages on a machine whose kernel has no IPVS.
 *
 * Instead of talking netlink to the kernel, it serves a canned table read from the file
 * named by LVSLAB_STUB_TABLE (written by fixture.ts from test-fixtures.ts). Commands that
 * would change the kernel's table print what they would send, on stdout, and succeed.
 *
 * Linked with these -Wl,--wrap options (see run.sh), all three for determinism and so
 * that a run sends nothing over the network:
 *   fopen          "/proc/net/ip_vs_conn" opens LVSLAB_STUB_CONN instead (list_conn).
 *   gethostbyname  resolves nothing. parse_service and parse_netmask call inet_aton
 *   gethostbyaddr  first, so every numeric form still parses; no reverse DNS, as lvslab.
 *   getservbyport  with LVSLAB_STUB_SERVICES set, port names come from that file
 *   getservbyname  (services(5) format) instead of /etc/services.
 *
 * ipvs_cmp_services, ipvs_sort_services, ipvs_cmp_dests and ipvs_sort_dests are not
 * here: run.sh takes them verbatim from the downloaded libipvs.c (sorting is part of
 * what the goldens check), and compiles them in a file of their own.
 *
 * This file is the lvslab project's (MIT); it holds no code from ipvsadm.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libipvs.h"

struct ip_vs_getinfo ipvs_info;

#define MAX_SERVICES 64
#define MAX_DESTS 64

static ipvs_service_entry_t services[MAX_SERVICES];
static ipvs_dest_entry_t dests[MAX_SERVICES][MAX_DESTS];
static unsigned int num_services;
static ipvs_timeout_t timeouts;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "stub-libipvs: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(99);
}

static __be32 parse_ip(const char *text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		die("bad address in table", text);
	return a.s_addr;
}

/* conns inpkts outpkts inbytes outbytes cps inpps outpps inbps outbps */
static void parse_stats(char **fields, struct ip_vs_stats64 *s64, struct ip_vs_stats_user *s32)
{
	unsigned long long v[10];
	int i;

	for (i = 0; i < 10; i++) {
		if (!fields[i])
			die("stats need 10 numbers", NULL);
		v[i] = strtoull(fields[i], NULL, 10);
	}
	s64->conns = v[0];
	s64->inpkts = v[1];
	s64->outpkts = v[2];
	s64->inbytes = v[3];
	s64->outbytes = v[4];
	s64->cps = v[5];
	s64->inpps = v[6];
	s64->outpps = v[7];
	s64->inbps = v[8];
	s64->outbps = v[9];
	/* the old 32-bit copy, as a kernel fills it (ipvsadm 1.31 prints stats64) */
	s32->conns = v[0];
	s32->inpkts = v[1];
	s32->outpkts = v[2];
	s32->inbytes = v[3];
	s32->outbytes = v[4];
	s32->cps = v[5];
	s32->inpps = v[6];
	s32->outpps = v[7];
	s32->inbps = v[8];
	s32->outbps = v[9];
}

/*
 * One record a line, fields separated by spaces:
 *   info VERSION SIZE
 *   timeout TCP TCPFIN UDP
 *   service PROTO ADDR PORT FWMARK SCHED FLAGS TIMEOUT NETMASK <10 stats>
 *   dest ADDR PORT CONN_FLAGS WEIGHT UTHRESH LTHRESH ACTIVE INACTIVE PERSIST
 *        TUN_TYPE TUN_PORT TUN_FLAGS <10 stats>      (belongs to the service above it)
 */
static void load_table(void)
{
	const char *path = getenv("LVSLAB_STUB_TABLE");
	char line[1024];
	FILE *f;

	if (!path)
		die("LVSLAB_STUB_TABLE is not set", NULL);
	if (!(f = fopen(path, "r")))
		die("cannot open table", path);
	while (fgets(line, sizeof(line), f)) {
		char *field[32] = { 0 };
		int n = 0;
		char *tok = strtok(line, " \t\n");

		while (tok && n < 31) {
			field[n++] = tok;
			tok = strtok(NULL, " \t\n");
		}
		if (n == 0 || field[0][0] == '#')
			continue;
		if (!strcmp(field[0], "info") && n == 3) {
			ipvs_info.version = strtoul(field[1], NULL, 0);
			ipvs_info.size = strtoul(field[2], NULL, 0);
		} else if (!strcmp(field[0], "timeout") && n == 4) {
			timeouts.tcp_timeout = atoi(field[1]);
			timeouts.tcp_fin_timeout = atoi(field[2]);
			timeouts.udp_timeout = atoi(field[3]);
		} else if (!strcmp(field[0], "service") && n == 19) {
			ipvs_service_entry_t *s;

			if (num_services == MAX_SERVICES)
				die("too many services", NULL);
			s = &services[num_services++];
			memset(s, 0, sizeof(*s));
			s->af = AF_INET;
			s->protocol = atoi(field[1]);
			s->addr.ip = s->__addr_v4 = parse_ip(field[2]);
			s->port = htons(atoi(field[3]));
			s->fwmark = strtoul(field[4], NULL, 10);
			snprintf(s->sched_name, sizeof(s->sched_name), "%s", field[5]);
			s->flags = strtoul(field[6], NULL, 0);
			s->timeout = strtoul(field[7], NULL, 10);
			s->netmask = parse_ip(field[8]);
			parse_stats(&field[9], &s->stats64, &s->stats);
		} else if (!strcmp(field[0], "dest") && n == 23) {
			ipvs_service_entry_t *s;
			ipvs_dest_entry_t *d;

			if (num_services == 0)
				die("dest before any service", NULL);
			s = &services[num_services - 1];
			if (s->num_dests == MAX_DESTS)
				die("too many dests", NULL);
			d = &dests[num_services - 1][s->num_dests++];
			memset(d, 0, sizeof(*d));
			d->af = AF_INET;
			d->addr.ip = d->__addr_v4 = parse_ip(field[1]);
			d->port = htons(atoi(field[2]));
			d->conn_flags = strtoul(field[3], NULL, 0);
			d->weight = atoi(field[4]);
			d->u_threshold = strtoul(field[5], NULL, 10);
			d->l_threshold = strtoul(field[6], NULL, 10);
			d->activeconns = strtoul(field[7], NULL, 10);
			d->inactconns = strtoul(field[8], NULL, 10);
			d->persistconns = strtoul(field[9], NULL, 10);
			d->tun_type = atoi(field[10]);
			d->tun_port = htons(atoi(field[11]));
			d->tun_flags = atoi(field[12]);
			parse_stats(&field[13], &d->stats64, &d->stats);
		} else {
			die("bad table line", field[0]);
		}
	}
	fclose(f);
	ipvs_info.num_services = num_services;
}

int ipvs_init(void)
{
	load_table();
	return 0;
}

int ipvs_getinfo(void)
{
	return 0;
}

unsigned int ipvs_version(void)
{
	return ipvs_info.version;
}

static const char *ip(const union nf_inet_addr *a, __u16 af)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int next;
	char *b = buf[next++ % 4];

	inet_ntop(af == AF_INET6 ? AF_INET6 : AF_INET, a, b, INET6_ADDRSTRLEN);
	return b;
}

static const char *ip4(__be32 a)
{
	union nf_inet_addr u;

	memset(&u, 0, sizeof(u));
	u.ip = a;
	return ip(&u, AF_INET);
}

/* What the real library would send to the kernel, on one line. */
static void show_service(const char *call, const ipvs_service_t *svc)
{
	printf("stub: %s protocol=%u af=%u addr=%s port=%u fwmark=%u sched=%s flags=0x%x "
	       "timeout=%u netmask=%s pe=%s",
	       call, svc->protocol, svc->af, ip(&svc->addr, svc->af), ntohs(svc->port),
	       svc->fwmark, svc->sched_name, svc->flags, svc->timeout,
	       svc->af == AF_INET6 ? "" : ip4(svc->netmask), svc->pe_name);
}

static void show_dest(const ipvs_dest_t *d)
{
	printf(" | dest addr=%s port=%u conn_flags=0x%x weight=%d u=%u l=%u "
	       "tun_type=%u tun_port=%u tun_flags=0x%x",
	       ip(&d->addr, d->af), ntohs(d->port), d->conn_flags, d->weight, d->u_threshold,
	       d->l_threshold, d->tun_type, ntohs(d->tun_port), d->tun_flags);
}

int ipvs_flush(void)
{
	printf("stub: ipvs_flush\n");
	return 0;
}

#define SVC_CALL(name)                         \
	int name(ipvs_service_t *svc)          \
	{                                      \
		show_service(#name, svc);      \
		printf("\n");                  \
		return 0;                      \
	}
SVC_CALL(ipvs_add_service)
SVC_CALL(ipvs_update_service)
SVC_CALL(ipvs_del_service)
SVC_CALL(ipvs_zero_service)

#define DEST_CALL(name)                                    \
	int name(ipvs_service_t *svc, ipvs_dest_t *dest)   \
	{                                                  \
		show_service(#name, svc);                  \
		show_dest(dest);                           \
		printf("\n");                              \
		return 0;                                  \
	}
DEST_CALL(ipvs_add_dest)
DEST_CALL(ipvs_update_dest)
DEST_CALL(ipvs_del_dest)

int ipvs_set_timeout(ipvs_timeout_t *to)
{
	printf("stub: ipvs_set_timeout tcp=%d tcpfin=%d udp=%d\n", to->tcp_timeout,
	       to->tcp_fin_timeout, to->udp_timeout);
	return 0;
}

int ipvs_start_daemon(ipvs_daemon_t *dm)
{
	printf("stub: ipvs_start_daemon state=%d ifn=%s syncid=%d\n", dm->state, dm->mcast_ifn,
	       dm->syncid);
	return 0;
}

int ipvs_stop_daemon(ipvs_daemon_t *dm)
{
	printf("stub: ipvs_stop_daemon state=%d\n", dm->state);
	return 0;
}

struct ip_vs_get_services *ipvs_get_services(void)
{
	struct ip_vs_get_services *get;

	get = malloc(sizeof(*get) + sizeof(ipvs_service_entry_t) * (num_services + 1));
	if (!get)
		return NULL;
	get->num_services = num_services;
	memcpy(get->entrytable, services, sizeof(ipvs_service_entry_t) * num_services);
	return get;
}

static int find_service(__u32 fwmark, __u16 protocol, __be32 addr, __be16 port)
{
	unsigned int i;

	for (i = 0; i < num_services; i++) {
		const ipvs_service_entry_t *s = &services[i];

		if (fwmark ? s->fwmark == fwmark
			   : (!s->fwmark && s->protocol == protocol && s->addr.ip == addr &&
			      s->port == port))
			return i;
	}
	return -1;
}

struct ip_vs_get_dests *ipvs_get_dests(ipvs_service_entry_t *svc)
{
	struct ip_vs_get_dests *d;
	int i = find_service(svc->fwmark, svc->protocol, svc->addr.ip, svc->port);
	unsigned int n;

	if (i < 0) {
		errno = ESRCH;
		return NULL;
	}
	n = services[i].num_dests;
	d = malloc(sizeof(*d) + sizeof(ipvs_dest_entry_t) * (n + 1));
	if (!d)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->protocol = svc->protocol;
	d->__addr_v4 = svc->addr.ip;
	d->port = svc->port;
	d->fwmark = svc->fwmark;
	d->af = svc->af;
	d->addr = svc->addr;
	d->num_dests = n;
	memcpy(d->entrytable, dests[i], sizeof(ipvs_dest_entry_t) * n);
	return d;
}

ipvs_service_entry_t *ipvs_get_service(__u32 fwmark, __u16 af, __u16 protocol,
				       union nf_inet_addr addr, __u16 port)
{
	ipvs_service_entry_t *svc;
	int i = af == AF_INET6 ? -1 : find_service(fwmark, protocol, addr.ip, port);

	if (i < 0) {
		errno = ESRCH;
		return NULL;
	}
	if (!(svc = malloc(sizeof(*svc))))
		return NULL;
	memcpy(svc, &services[i], sizeof(*svc));
	return svc;
}

ipvs_timeout_t *ipvs_get_timeout(void)
{
	ipvs_timeout_t *u = malloc(sizeof(*u));

	if (u)
		*u = timeouts;
	return u;
}

ipvs_daemon_t *ipvs_get_daemon(void)
{
	return calloc(2, sizeof(ipvs_daemon_t)); /* no sync daemon running */
}

void ipvs_close(void)
{
}

const char *ipvs_strerror(int err)
{
	if (err == ESRCH)
		return "No such service";
	return strerror(err);
}

/* ---- the wrapped libc calls (-Wl,--wrap=NAME makes ipvsadm.o call __wrap_NAME) ---- */

FILE *__real_fopen(const char *path, const char *mode);

FILE *__wrap_fopen(const char *path, const char *mode)
{
	const char *conn = getenv("LVSLAB_STUB_CONN");

	if (conn && !strcmp(path, "/proc/net/ip_vs_conn"))
		path = conn;
	return __real_fopen(path, mode);
}

struct hostent *__wrap_gethostbyname(const char *name)
{
	(void)name;
	h_errno = HOST_NOT_FOUND;
	return NULL;
}

struct hostent *__wrap_gethostbyaddr(const void *addr, socklen_t len, int type)
{
	(void)addr;
	(void)len;
	(void)type;
	h_errno = HOST_NOT_FOUND;
	return NULL;
}

struct servent *__real_getservbyport(int port, const char *proto);
struct servent *__real_getservbyname(const char *name, const char *proto);

/* Look a service up in LVSLAB_STUB_SERVICES: by name when name is set, else by port. */
static struct servent *services_file(const char *name, int port, const char *proto)
{
	static struct servent result;
	static char line[512];
	static char *no_aliases[] = { NULL };
	FILE *f = __real_fopen(getenv("LVSLAB_STUB_SERVICES"), "r");

	if (!f)
		die("cannot open LVSLAB_STUB_SERVICES", getenv("LVSLAB_STUB_SERVICES"));
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		char *sname, *portproto, *slash, *alias;
		int match;

		if (hash)
			*hash = '\0';
		if (!(sname = strtok(line, " \t\n")) || !(portproto = strtok(NULL, " \t\n")))
			continue;
		if (!(slash = strchr(portproto, '/')))
			continue;
		*slash = '\0';
		if (strcmp(slash + 1, proto))
			continue;
		match = name ? !strcmp(sname, name) : atoi(portproto) == ntohs(port);
		while (name && !match && (alias = strtok(NULL, " \t\n")))
			match = !strcmp(alias, name);
		if (match) {
			fclose(f);
			result.s_name = sname;
			result.s_aliases = no_aliases;
			result.s_port = htons(atoi(portproto));
			result.s_proto = slash + 1;
			return &result;
		}
	}
	fclose(f);
	return NULL;
}

struct servent *__wrap_getservbyport(int port, const char *proto)
{
	if (getenv("LVSLAB_STUB_SERVICES"))
		return services_file(NULL, port, proto);
	return __real_getservbyport(port, proto);
}

struct servent *__wrap_getservbyname(const char *name, const char *proto)
{
	if (getenv("LVSLAB_STUB_SERVICES"))
		return services_file(name, 0, proto);
	return __real_getservbyname(name, proto);
}
