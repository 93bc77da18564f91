FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY orgdesign orgdesign
COPY tiers tiers
COPY roles roles
COPY staffing staffing
COPY metrics metrics
COPY demo demo
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home orgdesign && chown -R orgdesign /app
USER orgdesign
EXPOSE 8000
CMD ["gunicorn", "orgdesign.wsgi:application", "--bind", "0.0.0.0:8000"]
