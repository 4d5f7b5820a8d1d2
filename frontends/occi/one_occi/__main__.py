from one_occi.server import cli

cli()
