# One image for every host of the Compose lab (client, director, rs1, rs2): an OS with the
# lab's network and traffic tools, and node 20+. The repository itself is bind-mounted at
# /lvslab by compose.yaml (see docker/README.md for why), so code changes need no rebuild.
#
# BASE_IMAGE: an official Node image by default; scripts/docker-base-image.sh builds
# lvslab-base:local for machines that reach no image registry (it has the tools already).
ARG BASE_IMAGE=node:20-bookworm-slim
FROM ${BASE_IMAGE}

# Install only what the base lacks, so the offline base image needs no apt mirror here.
RUN set -eu; missing=""; \
    for pair in ip:iproute2 ping:iputils-ping tcpdump:tcpdump ethtool:ethtool curl:curl \
                iperf3:iperf3 hping3:hping3 ps:procps vsftpd:vsftpd; do \
      command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"; \
    done; \
    if [ -n "$missing" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates $missing; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    node -e 'if (+process.versions.node.split(".")[0] < 20) { console.error("lvslab needs node 20+, this image has " + process.version); process.exit(1); }'

# lvslab up prunes dangling images with this label (older builds of this image).
LABEL lvslab.image=host
COPY entrypoints/ /usr/local/lib/lvslab/
# bin/host holds the lab's ipvsadm, which talks to the director of this container.
ENV PATH=/lvslab/bin/host:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /lvslab
ENTRYPOINT ["/usr/local/lib/lvslab/host.sh"]
CMD ["sleep", "infinity"]
