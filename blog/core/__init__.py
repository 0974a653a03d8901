"""What every feature uses: the sanitiser, settings, text helpers, URLs, signals,
local time, memos, the background jobs and safe XML parsing."""
