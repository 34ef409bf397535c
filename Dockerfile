# The ssi-stream worker image: `docker build -t ssi-stream .`, then `docker run ssi-stream worker`.
# Settings come from SSI_* environment variables (README, Configuration); tables live in SSI_DATA_DIR.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SSI_WEB_HOST=0.0.0.0 \
    SSI_DATA_DIR=/var/lib/ssi-stream

WORKDIR /src
COPY pyproject.toml README.md ./
COPY ssi_stream ./ssi_stream
RUN pip install --no-cache-dir ".[rocksdb]" \
    && rm -rf /src \
    && useradd --system --uid 10001 --user-group --no-create-home ssi \
    && mkdir -p /var/lib/ssi-stream \
    && chown ssi:ssi /var/lib/ssi-stream

USER 10001:10001
WORKDIR /var/lib/ssi-stream
EXPOSE 6066
ENTRYPOINT ["ssi-stream"]
CMD ["worker"]
