"""RPO Studio's trainer: Relative Preference Optimization (Yin et al. 2024) with DPO/IPO baselines."""

__version__ = "0.1.0"
