/** Real-world values the semantic providers draw from: each list holds only valid members of its kind. */

export const TIMEZONES = [
  "UTC",
  "Europe/London",
  "Europe/Paris",
  "Europe/Berlin",
  "Europe/Madrid",
  "Europe/Warsaw",
  "Europe/Athens",
  "Europe/Istanbul",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Toronto",
  "America/Sao_Paulo",
  "America/Mexico_City",
  "Asia/Tokyo",
  "Asia/Shanghai",
  "Asia/Kolkata",
  "Asia/Singapore",
  "Asia/Dubai",
  "Asia/Seoul",
  "Asia/Kathmandu",
  "Australia/Sydney",
  "Pacific/Auckland",
  "Pacific/Chatham",
  "Africa/Cairo",
  "Africa/Johannesburg",
  "Africa/Lagos",
];

export const CITIES = [
  "Manchester",
  "Paris",
  "Berlin",
  "Madrid",
  "Seville",
  "Rome",
  "Amsterdam",
  "Warsaw",
  "New York",
  "Chicago",
  "San Francisco",
  "Toronto",
  "Mexico City",
  "São Paulo",
  "Buenos Aires",
  "Tokyo",
  "Seoul",
  "Singapore",
  "Mumbai",
  "Dubai",
  "Cairo",
  "Nairobi",
  "Sydney",
  "Auckland",
  "Istanbul",
  "Stockholm",
  "Dublin",
  "Vienna",
  "Prague",
  "Zurich",
];

export const COUNTRIES: Array<[name: string, code: string]> = [
  ["United Kingdom", "GB"],
  ["France", "FR"],
  ["Germany", "DE"],
  ["Spain", "ES"],
  ["Portugal", "PT"],
  ["Italy", "IT"],
  ["Netherlands", "NL"],
  ["Poland", "PL"],
  ["United States", "US"],
  ["Canada", "CA"],
  ["Mexico", "MX"],
  ["Brazil", "BR"],
  ["Argentina", "AR"],
  ["Japan", "JP"],
  ["South Korea", "KR"],
  ["India", "IN"],
  ["Australia", "AU"],
  ["New Zealand", "NZ"],
  ["Egypt", "EG"],
  ["Kenya", "KE"],
  ["Nigeria", "NG"],
  ["Sweden", "SE"],
  ["Ireland", "IE"],
  ["Switzerland", "CH"],
];

export const LANGUAGES: Array<[name: string, code: string]> = [
  ["English", "en"],
  ["French", "fr"],
  ["German", "de"],
  ["Spanish", "es"],
  ["Portuguese", "pt"],
  ["Italian", "it"],
  ["Dutch", "nl"],
  ["Polish", "pl"],
  ["Japanese", "ja"],
  ["Korean", "ko"],
  ["Chinese", "zh"],
  ["Hindi", "hi"],
  ["Arabic", "ar"],
  ["Swedish", "sv"],
  ["Turkish", "tr"],
];

export const CURRENCIES = [
  "USD",
  "EUR",
  "GBP",
  "JPY",
  "CHF",
  "CAD",
  "AUD",
  "SEK",
  "PLN",
  "BRL",
  "INR",
  "MXN",
  "NZD",
  "ZAR",
];

export const URLS = [
  "https://example.com",
  "https://www.wikipedia.org",
  "https://en.wikipedia.org/wiki/Marie_Curie",
  "https://github.com/modelcontextprotocol/servers",
  "https://news.ycombinator.com",
  "https://www.bbc.co.uk/news",
  "https://developer.mozilla.org/en-US/",
  "https://nodejs.org/en/about",
  "https://www.python.org/downloads/",
  "https://api.github.com/repos/nodejs/node",
  "https://example.org/blog/2025/launch",
  "https://httpbin.org/get",
];

export const EMAIL_DOMAINS = ["example.com", "example.org", "mail.example.net"];

export const FILE_NAMES = [
  "minutes.txt",
  "CHANGELOG.md",
  "report.pdf",
  "budget.xlsx",
  "checklist.md",
  "config.json",
  "data.csv",
  "meeting-notes.md",
  "photo.jpg",
  "index.html",
  "main.py",
  "app.ts",
  "invoice-2025-03.pdf",
  "draft.docx",
  "schedule.ics",
];

export const DIR_NAMES = [
  "invoices",
  "scripts",
  "notes",
  "projects",
  "reports",
  "pictures",
  "backups",
  "downloads",
  "2025",
];

export const GIT_REFS = [
  "main",
  "HEAD",
  "HEAD~1",
  "develop",
  "feature/login-form",
  "fix/typo-in-readme",
  "v1.2.0",
  "release/2.0",
];

/** SQL over a small schema that most example databases share, when none was discovered. */
export const FALLBACK_TABLES: Record<string, string[]> = {
  users: ["id", "name", "email", "created_at"],
  orders: ["id", "user_id", "total", "status", "created_at"],
  products: ["id", "name", "price", "stock"],
};

export const SEARCH_TOPICS = [
  "quarterly report",
  "meeting notes",
  "Marie Curie",
  "travel plans",
  "budget 2025",
  "onboarding checklist",
  "project kickoff",
  "customer feedback",
  "release notes",
  "invoice",
  "holiday pictures",
  "anniversary dinner",
  "recipes",
  "tax return",
  "Kyoto trip",
];

export const DURATIONS_ISO = ["PT15M", "PT30M", "PT1H", "PT2H", "P1D", "P7D", "PT45M"];
export const DURATIONS_TEXT = ["15m", "30m", "1h", "2h", "1d", "90s", "45m"];

export const PEOPLE = [
  "Nadia Rahman",
  "Kofi Mensah",
  "Olga Petrova",
  "Diego Ramos",
  "Hannah Weiss",
  "Li Wei",
  "Ravi Menon",
  "Emma Berg",
  "Ines Duarte",
  "Marcus Bell",
  "Yuki Tanaka",
  "Fatima Haddad",
  "Lucas Silva",
  "Chloé Martin",
  "Omar Farouk",
  "Anna Kowalska",
];

export const ENTITY_TYPES = ["person", "organization", "project", "place", "event", "company", "team", "product"];

export const RELATIONS = [
  "works_at",
  "knows",
  "based_in",
  "manages",
  "reports_to",
  "founded",
  "member_of",
  "owns",
  "attended",
];

export const FACTS = [
  "Prefers morning meetings",
  "Moved to Seville in 2023",
  "Speaks Portuguese and English",
  "Works on the billing team",
  "Cannot eat shellfish",
  "Born in 1988",
  "Likes jazz and long walks",
  "Started a new job at Acme in May",
  "Has two children",
  "Is learning Japanese",
  "Drives an electric car",
  "Runs a marathon every spring",
  "Vegetarian",
  "Plays chess on weekends",
  "Manages the Dublin office",
  "Joined the company in 2019",
];

export const MESSAGES = [
  "Hello from the team!",
  "The build passed on the first try.",
  "Running ten minutes late, start without me.",
  "Don't forget the meeting at 3pm.",
  "Thanks for the quick review!",
  "The report is ready for you.",
  "Lunch on Friday?",
  "Server maintenance tonight at 22:00.",
  "Happy birthday, Nadia!",
  "Please send the invoice by Monday.",
  "Shopping list: eggs, milk, bread and coffee.",
  "Remember to feed the cat.",
  "Flight lands at 18:40 in Vienna.",
];

/** Mailbox names for e-mail addresses, at the EMAIL_DOMAINS. */
export const MAILBOXES = [
  "nadia.rahman",
  "kofi.mensah",
  "olga.petrova",
  "d.ramos",
  "li.wei",
  "ravi.menon",
  "emma.berg",
  "hannah.weiss",
];
