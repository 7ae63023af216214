# syntax=docker/dockerfile:1
# The Lambda image: the runtime packages from the lock, the handler, the model. No torch, no export tooling,
# no tests (see .dockerignore). Build it with `make model && sam build` (SAM passes --platform from the
# template's Architectures: arm64 by default, x86_64 with --parameter-overrides Architecture=x86_64), or by
# hand: docker build --platform linux/arm64 -t onnx-lambda .   (linux/amd64 for x86_64)
#
# The base image is multi-architecture, so the same lines build both; every wheel in the lock exists for
# cp313 on manylinux aarch64 and x86_64 (tests/deploy/test_runtime_set.py installs the lock for both).
ARG PYTHON_VERSION=3.13

FROM public.ecr.aws/lambda/python:${PYTHON_VERSION} AS dependencies
COPY requirements/runtime.lock requirements/runtime-prune.txt /tmp/
# --no-deps: the lock is complete and hashed; boto3/botocore and their dependencies are left out of it on
# purpose because the base image ships them (/var/runtime). Wheels only: nothing compiles in the image.
# Then the prune list (tests, C headers, onnxruntime's offline tools: ~30 MB nothing imports) goes.
# IMAGE_INPUTS=false drops the image decoder (Pillow, 11 MB pruned) and the multipart parser: a model that takes
# tensors never imports them, and one that takes images then fails INIT saying what to rebuild with.
ARG IMAGE_INPUTS=true
RUN pip install --no-cache-dir --no-deps --require-hashes --only-binary=:all: \
        --target /opt/runtime -r /tmp/runtime.lock \
    && cd /opt/runtime && rm -rf $(grep -v '^#' /tmp/runtime-prune.txt) \
    && if [ "$IMAGE_INPUTS" = false ]; then rm -rf PIL pillow* python_multipart* multipart; fi

FROM public.ecr.aws/lambda/python:${PYTHON_VERSION}
COPY --from=dependencies /opt/runtime ${LAMBDA_TASK_ROOT}
COPY handler/ ${LAMBDA_TASK_ROOT}/handler/
# Bytecode compiled now: /var/task is read-only in Lambda, so anything left uncompiled would be compiled
# again on every cold start.
RUN python -m compileall -q ${LAMBDA_TASK_ROOT}/handler

# The model is baked in (no S3 download at INIT). template.yaml passes MODEL_FILE in DockerBuildArgs.
ARG MODEL_FILE=models/digits-cnn.onnx
COPY ${MODEL_FILE} ${LAMBDA_TASK_ROOT}/models/model.onnx
ENV MODEL_PATH=/var/task/models/model.onnx

CMD ["handler.entrypoint.lambda_handler"]
