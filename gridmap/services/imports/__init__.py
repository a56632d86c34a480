"""Import jobs of every kind: the one job mechanism (jobs.py) and the layer and grid imports run as jobs
(layer_jobs.py); the household specifics stay in services/households/import_jobs.py."""
