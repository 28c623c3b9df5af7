from aligner.cli import app

app(prog_name="aligner")
