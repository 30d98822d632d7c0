"""Training the answer verifier (``zonebot train-verifier``); never imported by the question path.

- ``data``: the training questions (``training/data/<part>/``: documents and questions written for the
  task, none about the shipped corpus or an evaluation set), read into (ask, candidate, label) pairs
  through zonebot's own plan, retrieval and prefilter, so that the verifier learns on the very
  shortlists it reads at run time (hard negatives mined by zonebot's retrieval);
- ``train``: fine-tuning the cross-encoder with sentence-transformers' ``CrossEncoderTrainer``.
"""
