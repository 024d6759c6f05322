#!/usr/bin/env bash
# Builds the stand-in for the Dockerfile's base image, unless the engine already has it:
# Debian bookworm (debootstrap, minbase) with python3, pip and venv, loaded with `docker import`.
# No container registry is reachable here, so python:3.12-slim-bookworm cannot be pulled; see
# README.md beside this file for how the stand-in differs from it.
set -euo pipefail
image=${1:-llm-gate-stand-in-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$image" >/dev/null 2>&1; then
    exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }

root=$(mktemp -d /var/tmp/llm-gate-base.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
# What Debian's official slim images configure, so that a layer installing packages weighs what
# it weighs on python:3.12-slim-bookworm: no documentation, manual pages or translations, and
# no package caches kept after apt runs.
mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
    bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }

# pip inside a build trusts what the host trusts (this machine reaches the package index
# through its own certificate authority) and says so with pip's `cert` setting, as the host's
# pip does.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/man/* "$root"/usr/share/locale/*
find "$root/usr/share/doc" -type f ! -name copyright -delete

tar -C "$root" --numeric-owner -c . | docker import - "$image" >/dev/null
echo "built the stand-in base $image"
