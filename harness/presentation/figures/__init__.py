"""The PNG figures (matplotlib): one module per figure family, a shared style."""
