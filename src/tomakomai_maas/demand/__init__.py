"""Demand: who wants to travel where and when, and by which mode (no simpy here).

Modules (each documents its tables and assumptions):

* :mod:`.od` - trips from a CSV and stop-to-stop Poisson rates;
* :mod:`.zones` - the embedded central-Tomakomai zone system and user zone files;
* :mod:`.generation` - trip generation by purpose, destination choice, events;
* :mod:`.choice` - the multinomial logit with MaaS levers and a feedback helper;
* :mod:`.fares` - GTFS fares of rides; :mod:`.los` - level-of-service skims per mode from
  the scenario's supply (walk, bike, car, bus, autonomous bus, DRT);
* :mod:`.modechoice` - :class:`~.modechoice.ModeChoiceDemand`, the World's sampler for
  ``demand.generated`` (trips -> skims -> choice -> requests);
* :mod:`.feedback` - one replication with choice <-> simulation feedback and the
  ``choices`` / ``choice_iterations`` / ``ridership`` tables and mode-choice KPIs.

Calibration of the choice constants lives in :mod:`tomakomai_maas.calibrate`.
"""
