"""What the public (and, where stated, the author or a moderator) sees of each object:
one module per object, holding its SQL projection and its shaping together.

- `submissions`: submissions, public and private, and the attribution rule;
- `responses`: current responses with their ratings; `revisions`: a response's history;
- `cases`: case summaries and details, and the naming-consent rule;
- `progress`, `benchmarks`, `commitments`: benchmarks and commitments with their progress;
- `record_log`: the content each public event writes to the record log;
- `feed`: a record-log entry as the feed and the exports show it.

These modules import models and the SQL helpers only, never a service: services, the
record-log writer and the record page all read through them.
"""
