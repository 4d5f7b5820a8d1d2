from one_econe.server import cli

cli()
