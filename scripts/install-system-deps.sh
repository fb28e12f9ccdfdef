#!/usr/bin/env bash
# Installs the Debian packages dsbuild builds against and its tests use. Idempotent; needs root (or sudo).
set -euo pipefail
packages=(
  libcurl4-openssl-dev libsqlite3-dev libxml2-dev
  libjpeg62-turbo-dev libpng-dev libwebp-dev
  zlib1g-dev libzstd-dev zstd pkg-config openssl
  nginx-light python3-venv
  chromium chromium-driver
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
