# The two commands of the README.  Both set up whatever they need first.
.PHONY: setup demo test

setup:
	scripts/bootstrap

demo: setup
	.venv/bin/ransdn demo

test: setup
	scripts/test
