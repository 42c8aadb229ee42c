"""Small, real lifelong-learning jobs that run anywhere (data ships with scikit-learn)."""
