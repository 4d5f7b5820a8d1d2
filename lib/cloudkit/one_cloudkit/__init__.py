"""What the cloud front-ends (econe, OCCI) share: spec cloud-apis §1.

* :mod:`one_cloudkit.config` — the 1.4 configuration file syntax (§1.2), file
  locations (§1.1) and the keys both servers read (§1.3).
* :mod:`one_cloudkit.users` — user look-up and sessions through oned (§1.4).
* :mod:`one_cloudkit.erb` — the ERB subset the instance-type templates use (§1.5).
* :mod:`one_cloudkit.server` — ``<name>-server {start|stop|run}`` (§1.6).
* :mod:`one_cloudkit.wsgi` — the apps' common base and streamed request bodies.

The image repository (§2) is :mod:`one_cloudkit.images`.
"""
