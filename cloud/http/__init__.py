"""The API's HTTP plumbing, shared by every context's views: the store pool of a request
(db.py), RFC 9457 problems and the smorest Api (problems.py), pagination (paging.py), JSON
in and out (encoding.py), the shared fields and the Blueprint base (schemas.py) and the
offline Swagger UI (docs.py). It imports no context."""
