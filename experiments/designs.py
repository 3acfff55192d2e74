"""Registers this app as consent's design source (``consent.designs``): consent asks which
design a user sees and experiments answers with ``choose_variant``, ``exposure_record`` and
``arm_offered``, without consent importing experiments. Imported by ``ExperimentsConfig.ready``.
"""

from consent.designs import design_source_register

from . import services

design_source_register(services)
