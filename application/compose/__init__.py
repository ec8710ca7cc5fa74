"""The compose box's ways in (the app's message extension): searching handoffs to insert a
case's card, unfurling a pasted link to a case's page, and "Hand off this case" on a message.
Each asks the same access policy as the commands that show or start the same thing."""
