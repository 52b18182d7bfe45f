// The proof page's Print button (the console's content policy runs no inline script).
document.getElementById('print')?.addEventListener('click', () => window.print());
