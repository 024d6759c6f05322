FROM python:3.12-slim

# git reads the base side of the change (`git show BASE:path`, `git merge-base`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.* \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*'

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/llm-gate

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir gate && touch gate/__init__.py \
    && pip install . \
    && pip uninstall -y llm-gate \
    && rm -rf gate build

# The source copy goes once installed: beside entrypoint.py (sys.path[0]) it would shadow the
# installed package, which pip byte-compiled, and with PYTHONDONTWRITEBYTECODE every run would
# compile it again (about 0.1 s).
COPY gate ./gate
COPY entrypoint.py ./
RUN pip install --no-deps . && rm -rf build gate ./*.egg-info

# The runner mounts the workspace and sets the working directory; no USER, as GitHub documents
# for Docker actions (https://docs.github.com/actions/creating-actions/dockerfile-support-for-github-actions#user).
ENTRYPOINT ["python", "/opt/llm-gate/entrypoint.py"]
