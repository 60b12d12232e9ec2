"""X-Ray tracing of the customers handlers (Powertools' Tracer).

Each handler is wrapped in `tracer.capture_lambda_handler`: on a stage that traces
(`[tool.lambdapress.deploy.stages.<stage>.observability] tracing = "xray"`, the default on
production stages) Lambda samples requests and the handler's subsegment shows up under them in
X-Ray, with its errors. Elsewhere it costs next to nothing: requests are not sampled, so
nothing is sent (under `lambdapress serve` too), and outside Lambda (tests, scripts) the
Tracer disables itself. `POWERTOOLS_TRACE_DISABLED=true` turns it off entirely.

Responses are not recorded (`capture_response=False` on each handler): they carry the
service's data, which does not belong in traces.
Only botocore is patched, so each AWS call is a subsegment of its own; patching every library
Powertools knows would import them all (requests, httpx...) at every cold start.
"""

from aws_lambda_powertools import Tracer

tracer = Tracer(patch_modules=["botocore"])
