# Image Gallery on the embedded default (SQLite + files): `docker compose up`, or
#   docker build -t image-gallery . && docker run -p 8080:8080 -v gallery-data:/data image-gallery
# The first start prints the system administrator's password once (docker compose logs); add `--demo` to the
# command for ThingsBoard's demo logins and sample images.

# The wheel, built from this checkout as `pip wheel .` builds it (Swagger UI is vendored: no npm needed).
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && cp requirements/runtime.txt /wheels/constraints.txt

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /data --no-create-home gallery \
    && mkdir /data && chown gallery:gallery /data
COPY --from=wheel /wheels /wheels
# Its dependencies at the versions the project pins (requirements/runtime.txt), as the Lambda zips have them.
RUN wheel="$(ls /wheels/image_gallery-*.whl)" \
    && pip install --no-cache-dir --constraint /wheels/constraints.txt "${wheel}" \
    && rm -rf /wheels
ENV GALLERY_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["gallery", "serve", "--host", "0.0.0.0", "--port", "8080"]
