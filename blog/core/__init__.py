"""What every feature uses: the sanitiser, settings, text helpers, URLs, signals."""
