"""The ``maillage`` console script: one module per noun (communes, plan, directory…)."""
