"""The central limit theorem as a renormalisation-group flow, learned by small networks.

The maths is library (:mod:`jaxrg.clt`, :mod:`jaxrg.cumulants`); here live the network that
approximates the RG map (``rg_network``), the runs, report and figures (``experiment``) and
``cli``: ``jaxrg study clt-rg run|report``.
"""

__all__: list[str] = []
