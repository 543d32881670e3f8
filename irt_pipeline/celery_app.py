"""The Celery app a worker runs: `celery -A irt_pipeline.celery_app worker ...`, the
command `python -m irt_pipeline.deploy worker` starts (broker from
IRT_PIPELINE_BROKER_URL, settings shared with the executor)."""

from irt_pipeline.deploy import celery_app

app = celery_app()
