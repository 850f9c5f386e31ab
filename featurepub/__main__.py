from featurepub.cli.app import main

main()
