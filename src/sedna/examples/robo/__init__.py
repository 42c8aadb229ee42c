"""The tutorial's robot-dog job: semantic segmentation for a delivery robot,
learned over cities and over real and simulated scenes, small enough for a CPU.

``datagen`` renders scenes in the Cityscapes layout, ``rfnet`` is RFNet-lite,
``interface`` the tutorial's Estimator, ``train.py``/``evaluate.py``/
``predict.py`` the workers and ``manifests/`` the job.
"""
