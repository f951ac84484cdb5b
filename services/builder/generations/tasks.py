"""Background tasks of the builder (django-tasks, queued in the database).

The web only queues them: the runner, and the openai SDK with it (some 20 MB and half a second of
CPU a process), is loaded by the workers that run them (`generation_worker`), not by every web
process that imports this module to queue a run.
"""

from django_tasks import task


@task(queue_name="generations")
def run_generation(generation_id: str) -> None:
    from generations import runner

    runner.generation_run(generation_id=generation_id)
