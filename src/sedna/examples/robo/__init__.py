"""The tutorial's robot-dog job: semantic segmentation for a delivery robot,
learned over cities and over real and simulated scenes, small enough for a CPU.

``datagen`` renders scenes in the Cityscapes layout, ``rfnet`` is RFNet-lite,
``interface`` the tutorial's Estimator (its inputs in ``inputs``),
``train.py``/``evaluate.py``/``predict.py`` the workers, ``manifests/`` the
job, ``plugins`` what it plugs into sedna (frame features, its file naming and
sample renderer for the labelling loop) and ``demo`` (tables: ``demo_table``)
``sedna demo``.
"""
