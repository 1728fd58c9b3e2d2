"""The Discord face of the bot: slash commands, buttons and modals."""
