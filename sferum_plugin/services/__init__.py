"""Use cases of the Sferum module. Nothing here imports a web framework; each takes its dependencies as parameters."""
