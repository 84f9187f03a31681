# BuyerBot: one image for the web/worker process. Production runs it on Redis:
#   docker run -e BUYERBOT_STORE_URL=redis://redis:6379/0 -e BUYERBOT_API_TOKEN=... -p 8080:8080 buyerbot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    BUYERBOT_HTTP_HOST=0.0.0.0 BUYERBOT_HTTP_PORT=8080 \
    BUYERBOT_STORE_URL=sqlite:////data/buyerbot.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY scheduler ./scheduler
RUN pip install --no-cache-dir . && useradd --create-home --uid 10001 buyerbot && mkdir /data && chown buyerbot /data
COPY templates ./templates
COPY policy.toml ./
COPY scenarios ./scenarios

ENV BUYERBOT_TEMPLATES=/app/templates BUYERBOT_POLICY=/app/policy.toml
USER buyerbot
# var/ (a generated API token, when none is given) lives on the volume too
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz').status == 200 else 1)"
CMD ["buyerbot", "run"]
