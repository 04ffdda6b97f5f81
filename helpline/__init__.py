"""The Fosterhjemstelefonen service: settings, storage, web app, jobs and command line."""
