"""JupyterHub integration (deploy/jupyterhub): the ALPR authenticator and the TOTP second factor.

``c.JupyterHub.authenticator_class = "alpr_lib.hub.authenticator.ALPRAuthenticator"`` in the Hub's
configuration; see ``deploy/jupyterhub/README.md``. Importing this package imports nothing from JupyterHub.
"""
