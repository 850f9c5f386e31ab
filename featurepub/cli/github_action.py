"""The GitHub Action's step: `python -m featurepub.cli.github_action`, configured by INPUT_* variables
(see featurepub.cli.action)."""

from featurepub.cli.action.main import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    main()
