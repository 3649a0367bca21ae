# A local stand-in for the nats:2.9-alpine image, from Debian's nats-server
# 2.9, for machines with no registry in reach (scripts/compose.sh): its
# arguments are nats-server's, and wget answers the health check.
FROM debian:bookworm-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends nats-server wget \
  && rm -rf /var/lib/apt/lists/*
EXPOSE 4222 8222
ENTRYPOINT ["/usr/sbin/nats-server"]
