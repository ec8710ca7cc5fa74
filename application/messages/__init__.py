"""What the bot says, in one place so wording stays consistent. Each text is a function, so it
is said in the language of the turn that says it (i18n); callers read them all from here
(`messages.welcome()`), whichever module of this package writes them."""

# The package is the messages' one name for callers; its modules only keep each under the
# size limit, so everything public of each is re-exported.
from .conversation import *  # noqa: F403
from .escalations import *  # noqa: F403
from .long_running import *  # noqa: F403
from .people import *  # noqa: F403
