FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CIVIC_DATABASE_URL=sqlite:////data/civic-input.db

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY api ./api
COPY models ./models
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app civic \
    && mkdir -p /data && chown civic /data

USER civic
VOLUME ["/data"]
EXPOSE 8000
CMD ["civic-input", "serve", "--host", "0.0.0.0", "--port", "8000"]
