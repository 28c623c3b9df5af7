"""Fine-tuning the translation model on approved pairs (``aligner model adapt``).

``data`` reads approved pairs and splits them by document, ``train`` is the training loop,
``evaluate`` scores a model, ``card`` writes the record and the model card, ``run`` ties
them together.
"""
