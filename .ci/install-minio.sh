#!/usr/bin/env bash
# Installs the MinIO server binary used by the storage/s3 tests into
# $(go env GOPATH)/bin/minio, unless it is already there. Idempotent.
# The version is pinned in SPEC §8 (about 4 minutes cold on 2 cores, 150 MB).
set -euo pipefail

MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

gobin="$(go env GOBIN)"
if [ -z "${gobin}" ]; then
	gobin="$(go env GOPATH | cut -d: -f1)/bin"
fi
target="${gobin}/minio"

if [ -x "${target}" ]; then
	echo "install-minio: ${target} already present, nothing to do"
	exit 0
fi

echo "install-minio: installing ${MINIO_MODULE} into ${gobin} (takes a few minutes cold)"
start="$(date +%s)"
# GOFLAGS is cleared so that repository-level flags (for example -mod=...)
# do not apply to the standalone install of a foreign module.
GOFLAGS= GOBIN="${gobin}" go install "${MINIO_MODULE}"
end="$(date +%s)"
if [ ! -x "${target}" ]; then
	echo "install-minio: go install finished but ${target} is missing" >&2
	exit 1
fi
echo "install-minio: installed ${target} in $((end - start))s"
