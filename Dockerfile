# syntax=docker/dockerfile:1
# The Lambda image: the runtime packages from the lock, the handler, the model. No torch, no export tooling,
# no tests (see .dockerignore). Build it with `make model && sam build` (SAM passes --platform from the
# template's Architectures: arm64 by default, x86_64 with --parameter-overrides Architecture=x86_64), or by
# hand: docker build --platform linux/arm64 -t onnx-lambda .   (linux/amd64 for x86_64)
#
# The base image is multi-architecture, so the same lines build both; every wheel in the lock exists for
# cp313 on manylinux aarch64 and x86_64 (tests/deploy/test_runtime_set.py installs the lock for both).
#
# The same image also serves plain HTTP on any container host (docker run, compose, ECS, App Runner):
#   docker run -p 8080:8080 --entrypoint python IMAGE -m handler.http_host
# Its Lambda entry point and CMD stay the base image's own; HEALTHCHECK is read by container hosts, not Lambda.
#
# PYTHON_VERSION: 3.12 or 3.13, the Lambda base images on Amazon Linux 2023 (glibc 2.34). 3.11 and older are
# Amazon Linux 2 (glibc 2.26), on which numpy's and onnxruntime's aarch64 wheels (manylinux_2_28) cannot install.
ARG PYTHON_VERSION=3.13

FROM public.ecr.aws/lambda/python:${PYTHON_VERSION} AS dependencies
ARG PYTHON_VERSION
RUN case "$PYTHON_VERSION" in 3.12|3.13) ;; *) echo "PYTHON_VERSION=$PYTHON_VERSION is not supported: \
expected 3.12 or 3.13 (Amazon Linux 2023 base images; 3.11 and older are Amazon Linux 2, glibc 2.26, where the \
locked aarch64 wheels cannot install)" >&2; exit 1;; esac
COPY requirements/runtime.lock requirements/runtime-prune.txt /tmp/
# --no-deps: the lock is complete and hashed; boto3/botocore and their dependencies are left out of it on
# purpose because the base image ships them (/var/runtime). Wheels only: nothing compiles in the image.
# Then the prune list (tests, C headers, onnxruntime's offline tools: ~30 MB nothing imports) goes.
# IMAGE_INPUTS=false drops the image decoder (Pillow, 11 MB pruned) and the multipart parser: a model that takes
# tensors never imports them, and one that takes images then fails INIT saying what to rebuild with.
# HTTP_HOST=false drops the container host's HTTP server (uvicorn, h11, click): Lambda never imports it.
ARG IMAGE_INPUTS=true
ARG HTTP_HOST=true
RUN pip install --no-cache-dir --no-deps --require-hashes --only-binary=:all: \
        --target /opt/runtime -r /tmp/runtime.lock \
    && cd /opt/runtime && rm -rf $(grep -v '^#' /tmp/runtime-prune.txt) \
    && if [ "$IMAGE_INPUTS" = false ]; then rm -rf PIL pillow* python_multipart* multipart; fi \
    && if [ "$HTTP_HOST" = false ]; then rm -rf uvicorn* h11* click*; fi

FROM public.ecr.aws/lambda/python:${PYTHON_VERSION}
# Modes set on copy: Lambda runs the function as another user (sbx_user1051), and files keep the mode they had in
# the build context, so a model exported under umask 077 would otherwise be unreadable to it (INIT: permission
# denied). Directories and code 0755, the model 0644.
COPY --from=dependencies --chmod=0755 /opt/runtime ${LAMBDA_TASK_ROOT}
COPY --chmod=0755 handler/ ${LAMBDA_TASK_ROOT}/handler/
# Bytecode compiled now: /var/task is read-only in Lambda, so anything left uncompiled would be compiled
# again on every cold start.
RUN python -m compileall -q ${LAMBDA_TASK_ROOT}/handler

# The model is baked in (no S3 download at INIT). template.yaml passes MODEL_FILE in DockerBuildArgs.
ARG MODEL_FILE=models/digits-cnn.onnx
COPY --chmod=0644 ${MODEL_FILE} ${LAMBDA_TASK_ROOT}/models/model.onnx
ENV MODEL_PATH=/var/task/models/model.onnx

# Container hosts only: healthy once /health answers 200 (HTTP mode: after INIT), or the emulator's port answers.
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["python", "-m", "handler.healthcheck"]
CMD ["handler.entrypoint.lambda_handler"]
