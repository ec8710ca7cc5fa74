"""The use cases the outbox carries out later: cards posted and updated, people told, reminders,
approval cards, group chats."""
