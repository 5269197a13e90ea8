#!/usr/bin/env bash
# Builds the deft image (docker/Dockerfile) with Debian's podman/buildah, offline-capable:
# when no registry is reachable, the base image is a debootstrapped Debian 12 imported as
# localhost/debian12 (from Debian's archive, which is reachable). Idempotent: an existing base
# image is reused; the build uses the layer cache.
#   scripts/build-container.sh [IMAGE_TAG]     (default localhost/deft)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tag=${1:-localhost/deft}
base=localhost/debian12

need=()
for tool in podman buildah debootstrap; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman buildah debootstrap >/dev/null
fi

if ! podman image exists "$base"; then
  rootfs=$(mktemp -d /var/tmp/deft-debian12.XXXXXX)
  echo "build-container: debootstrapping Debian 12 into $rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  tar -C "$rootfs" -c . | podman import - "$base" >/dev/null
  rm -rf "$rootfs"
fi

# Certificates of a TLS-intercepting proxy, for the build stage's HTTPS download.
cp /usr/local/share/ca-certificates/*.crt "$root/docker/extra-ca/" 2>/dev/null || true

# chroot isolation: builds where the OCI runtime cannot create cgroups (CI sandboxes).
podman build --isolation=chroot --build-arg BASE="$base" -f "$root/docker/Dockerfile" \
  -t "$tag" "$root"
