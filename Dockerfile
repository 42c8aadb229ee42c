# The sedna image: `sedna operator` (Deployment), `sedna agent` (DaemonSet) and the base of the
# workers' images. Build from the repository root:
#   docker build -t sedna/sedna:0.1.0 .
# (Not built in this project's CI: the machine it runs on has no Docker daemon.)
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# CPU-only torch first, from PyTorch's own index, so that the package's torch requirement is
# already met and pip does not pull the CUDA wheels (several GB) from PyPI.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[server,kubernetes]" && cd / && rm -rf /build

RUN useradd --uid 1000 --create-home sedna
USER 1000
WORKDIR /home/sedna
ENTRYPOINT ["sedna"]
CMD ["--help"]
