# The base is pinned by digest: python:3.12-slim-bookworm, multi-architecture index digest.
# A test substitutes a local stand-in (`--build-arg BASE_IMAGE=…`, see tests/image/README.md).
ARG BASE_IMAGE=python:3.12-slim-bookworm@sha256:782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254

# ---------------------------------------------------------------------------- build
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git for its one binary (see the runtime stage).
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.* \
    && rm -rf /var/lib/apt/lists/*

# The runtime environment is a venv without pip; the build venv's pip installs into it, and
# only that venv goes on to the runtime stage.
RUN python3 -m venv /opt/build \
    && python3 -m venv --without-pip /opt/llm-gate

# The dependencies depend on the lock files alone, so editing the source or the README keeps
# this layer (most of the build's time and size) cached.
COPY requirements.lock requirements-build.lock /tmp/lock/
RUN /opt/build/bin/pip install --quiet --no-deps --require-hashes -r /tmp/lock/requirements-build.lock \
    && /opt/build/bin/pip --python /opt/llm-gate/bin/python install --quiet --no-deps \
       --require-hashes -r /tmp/lock/requirements.lock \
    && find /opt/llm-gate/lib -depth \( -type d -name tests -o -name '*.pyi' \) -exec rm -rf {} +

# The package itself, built without fetching anything (its build backend is hash-pinned above)
# and installed without dependencies: the lock alone decides what ships.
COPY pyproject.toml README.md entrypoint.py /src/
COPY gate /src/gate
RUN /opt/build/bin/pip wheel --quiet --no-deps --no-build-isolation --wheel-dir /tmp/wheel /src \
    && /opt/build/bin/pip --python /opt/llm-gate/bin/python install --quiet --no-deps /tmp/wheel/*.whl \
    && cp /src/entrypoint.py /opt/llm-gate/entrypoint.py

# ---------------------------------------------------------------------------- runtime
FROM ${BASE_IMAGE}

# git reads the base side of the change (`git show`, `git diff`, `git merge-base`, `git
# worktree`), all built into its main binary, which needs only libc, zlib and PCRE2, all in the
# base. Debian's git package would add perl and the network transports (about 80 MB) that
# llm-gate never runs: it never fetches. `git --version` fails the build if a library is missing.
COPY --from=build /usr/bin/git /usr/bin/git
COPY --from=build /usr/share/git-core/templates /usr/share/git-core/templates
RUN mkdir -p /usr/lib/git-core \
    && ln -s /usr/bin/git /usr/lib/git-core/git \
    && git --version \
    && git config --system --add safe.directory '*'

COPY --from=build /opt/llm-gate /opt/llm-gate

ENV PATH=/opt/llm-gate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# The runner mounts the workspace and sets the working directory; no USER, as GitHub documents
# for Docker actions (https://docs.github.com/actions/creating-actions/dockerfile-support-for-github-actions#user).
# llm-gate then runs as the workspace's owner (gate/ownership.py). Arguments pass through
# (`docker run IMAGE --version`); with none, it runs `llm-gate run`.
ENTRYPOINT ["/opt/llm-gate/bin/python", "/opt/llm-gate/entrypoint.py"]
