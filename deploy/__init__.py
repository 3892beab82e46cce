"""`make deploy` / `make destroy`: one stage of the gallery on AWS, from a checkout. `python -m deploy --help`."""
