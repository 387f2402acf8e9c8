/**
 * Every customer-facing string in one catalogue: English is the key (and the text), German,
 * French and Spanish are below. The language follows the browser (navigator.languages, which
 * Chromium derives from Accept-Language and --lang) unless the person picks another in the
 * language switch (kept in localStorage). Static page text is translated once at load
 * (translatePage), dynamic text through t().
 */
export const LANGUAGES = { en: 'English', de: 'Deutsch', fr: 'Français', es: 'Español' } as const;
export type Lang = keyof typeof LANGUAGES;
type Catalogue = Record<string, string>;

const LANG_KEY = 'vitrine:lang';

/** Keys used by code for short UI strings whose English is not a sentence. */
const EN_KEYS: Catalogue = {
  'tool.pointer.on': 'Pointer: others see where you point.',
  'tool.laser.on': 'Laser: hold and move over the page to highlight.',
  'tool.draw.on': 'Draw: drag over the page; strokes fade after a few seconds.',
  'tool.show': 'Show annotations',
  'tool.hide': 'Hide annotations',
  'tool.hidden': 'Pointers and drawings are hidden.',
  'tool.shown': 'Pointers and drawings are shown.',
  'people.you': '{name} (you)',
  'people.control': 'has control',
  'role.customer': 'customer',
  'role.agent': 'agent',
  'role.supervisor': 'supervisor',
  'quality.unknown': 'connection: measuring',
  'quality.good': 'good connection ({ms} ms)',
  'quality.fair': 'fair connection ({ms} ms)',
  'quality.poor': 'poor connection ({ms} ms)',
};

const DE: Catalogue = {
  passwords: 'Passwörter',
  'payment card numbers': 'Zahlungskartennummern',
  'expiry dates and security codes': 'Ablaufdaten und Sicherheitscodes',
  'bank account numbers (IBAN)': 'Kontonummern (IBAN)',
  'social security numbers': 'Sozialversicherungsnummern',
  Customer: 'Kunde',
  'tool.pointer.on': 'Zeiger: Andere sehen, wohin Sie zeigen.',
  'tool.laser.on': 'Laser: über die Seite bewegen, um etwas hervorzuheben.',
  'tool.draw.on': 'Zeichnen: über die Seite ziehen; Striche verblassen nach einigen Sekunden.',
  'tool.show': 'Markierungen zeigen',
  'tool.hide': 'Markierungen ausblenden',
  'tool.hidden': 'Zeiger und Zeichnungen sind ausgeblendet.',
  'tool.shown': 'Zeiger und Zeichnungen werden angezeigt.',
  'people.you': '{name} (Sie)',
  'people.control': 'hat die Steuerung',
  'role.customer': 'Kunde',
  'role.agent': 'Berater',
  'role.supervisor': 'Supervisor',
  'quality.unknown': 'Verbindung: wird gemessen',
  'quality.good': 'gute Verbindung ({ms} ms)',
  'quality.fair': 'mittlere Verbindung ({ms} ms)',
  'quality.poor': 'schwache Verbindung ({ms} ms)',
  Pointer: 'Zeiger',
  Laser: 'Laser',
  Draw: 'Zeichnen',
  'Clear my drawings': 'Meine Zeichnungen löschen',
  'Pointing tools': 'Zeigewerkzeuge',
  People: 'Teilnehmende',
  Language: 'Sprache',
  'Shared session': 'Geteilte Sitzung',
  'Connecting…': 'Verbindung wird hergestellt…',
  'Code for your agent:': 'Code für Ihren Berater:',
  'Pause sharing': 'Teilen pausieren',
  'Resume sharing': 'Teilen fortsetzen',
  'Give control': 'Steuerung übergeben',
  'Take back control': 'Steuerung zurücknehmen',
  'End session': 'Sitzung beenden',
  'Page navigation': 'Seitennavigation',
  Back: 'Zurück',
  Forward: 'Vorwärts',
  Reload: 'Neu laden',
  Address: 'Adresse',
  Go: 'Öffnen',
  'Share this page with': 'Diese Seite teilen mit',
  from: 'von',
  asks: 'bittet darum,',
  ask: 'bitten darum,',
  'to see this page with you:': 'diese Seite mit Ihnen anzusehen:',
  'Full address:': 'Vollständige Adresse:',
  'What they will see:': 'Was sie sehen:',
  'a live image of this page, rendered on our server. They never receive the page itself.': 'ein Live-Bild dieser Seite, auf unserem Server erzeugt. Die Seite selbst erhalten sie nie.',
  'Hidden from them:': 'Für sie verborgen:',
  ', and other protected fields. You keep seeing your page as it is.': ' und andere geschützte Felder. Sie sehen Ihre Seite weiterhin unverändert.',
  'To prove who you are talking to, read this code to your agent:': 'Lesen Sie Ihrem Berater diesen Code vor, damit Sie wissen, mit wem Sie sprechen:',
  'Only you control the page unless you give control. You can pause, take back control or end the session at any time.': 'Nur Sie steuern die Seite, solange Sie die Steuerung nicht übergeben. Sie können jederzeit pausieren, die Steuerung zurücknehmen oder die Sitzung beenden.',
  Decline: 'Ablehnen',
  'Accept and share': 'Annehmen und teilen',
  'Control request': 'Anfrage zur Steuerung',
  'Click a button to answer. What you type keeps going to the page.': 'Klicken Sie zum Antworten auf eine Schaltfläche. Was Sie tippen, geht weiter an die Seite.',
  Refuse: 'Ablehnen',
  'Grant control': 'Steuerung erlauben',
  'Page proposal': 'Seitenvorschlag',
  'Your agent proposes to open:': 'Ihr Berater schlägt vor, diese Seite zu öffnen:',
  'Approve and open': 'Zustimmen und öffnen',
  'Shared page (click it to use the page, keys go to the page while it has focus)': 'Geteilte Seite (klicken, um sie zu bedienen; Tasten gehen an die Seite, solange sie den Fokus hat)',
  'Waiting for the page…': 'Warten auf die Seite…',
  Reconnect: 'Erneut verbinden',
  'Try again': 'Erneut versuchen',
  Notifications: 'Benachrichtigungen',
  'Nothing yet.': 'Noch nichts.',
  'our support team': 'unserem Support-Team',
  'An agent': 'Ein Berater',
  'passwords, card numbers': 'Passwörter, Kartennummern',
  'This session is recorded (already masked) for quality and compliance.': 'Diese Sitzung wird (bereits maskiert) zur Qualitätssicherung aufgezeichnet.',
  'This session is not recorded.': 'Diese Sitzung wird nicht aufgezeichnet.',
  'Waiting for your answer': 'Wartet auf Ihre Antwort',
  'Waiting for your answer…': 'Wartet auf Ihre Antwort…',
  'Sharing paused': 'Teilen pausiert',
  'Viewing: {who}': 'Es sehen zu: {who}',
  'nobody yet': 'noch niemand',
  '{name} has control': '{name} hat die Steuerung',
  'Only you control the page': 'Nur Sie steuern die Seite',
  'Session ended': 'Sitzung beendet',
  'Link already used': 'Link bereits verwendet',
  'Link expired': 'Link abgelaufen',
  // Customer-started sessions (embed.ts, the join code on the customer page)
  "Get help from an agent": "Hilfe von einem Berater",
  "Your code for the agent": "Ihr Code für den Berater",
  "Open the sharing window": "Freigabefenster öffnen",
  "Close": "Schließen",
  "Starting…": "Wird gestartet…",
  "Help cannot start on this page right now. Please try again later.": "Die Hilfe kann auf dieser Seite gerade nicht starten. Bitte versuchen Sie es später erneut.",
  "Read this code to your agent. It works once, until {time}. Then open the sharing window: you decide there what they may see.": "Lesen Sie diesen Code Ihrem Berater vor. Er gilt einmal, bis {time}. Öffnen Sie dann das Freigabefenster: Dort entscheiden Sie, was er sehen darf.",
  "Your agent types this code to join you. It works once, until {time}.": "Ihr Berater gibt diesen Code ein, um dazuzukommen. Er gilt einmal, bis {time}.",
  "Waiting for your agent to join…": "Warten, bis Ihr Berater dazukommt…",
  "Nobody sees your page before you accept.": "Niemand sieht Ihre Seite, bevor Sie zustimmen.",
  'Could not join': 'Beitritt nicht möglich',
  'Connection lost': 'Verbindung verloren',
  'Link incomplete': 'Link unvollständig',
  'This link is incomplete. Ask your agent for a new one.': 'Dieser Link ist unvollständig. Bitten Sie Ihren Berater um einen neuen.',
  '{name} asks to control the page: they could click and type in it for you.': '{name} bittet um die Steuerung der Seite: Er oder sie könnte für Sie darin klicken und tippen.',
  '{name} proposes to open this page:': '{name} schlägt vor, diese Seite zu öffnen:',
  'Page: {title}': 'Seite: {title}',
  'End the session?': 'Sitzung beenden?',
  'Your agent will stop seeing this page, and this link will stop working.': 'Ihr Berater sieht diese Seite dann nicht mehr, und dieser Link funktioniert nicht mehr.',
  'Continue session': 'Sitzung fortsetzen',
  'This link was already used. Ask your agent for a new one.': 'Dieser Link wurde bereits verwendet. Bitten Sie Ihren Berater um einen neuen.',
  'This link has expired. Ask your agent for a new one.': 'Dieser Link ist abgelaufen. Bitten Sie Ihren Berater um einen neuen.',
  'This session has ended. If you still need help, ask your agent for a new one.': 'Diese Sitzung ist beendet. Wenn Sie noch Hilfe brauchen, bitten Sie Ihren Berater um einen neuen Link.',
  'This link does not work. Check that you opened the whole link, or ask your agent for a new one.': 'Dieser Link funktioniert nicht. Prüfen Sie, ob Sie den ganzen Link geöffnet haben, oder bitten Sie Ihren Berater um einen neuen.',
  'This session is already open in another window or tab. Close it there, then try again here.': 'Diese Sitzung ist bereits in einem anderen Fenster oder Tab geöffnet. Schließen Sie sie dort und versuchen Sie es hier erneut.',
  'The connection was closed after too many refused actions. Try again in a moment.': 'Die Verbindung wurde nach zu vielen abgelehnten Aktionen getrennt. Versuchen Sie es gleich noch einmal.',
  'The connection to your agent was lost. Check your internet connection and try again.': 'Die Verbindung zu Ihrem Berater wurde unterbrochen. Prüfen Sie Ihre Internetverbindung und versuchen Sie es erneut.',
  'Could not connect. Check your internet connection and try again.': 'Keine Verbindung möglich. Prüfen Sie Ihre Internetverbindung und versuchen Sie es erneut.',
  'you ended it.': 'Sie haben sie beendet.',
  'your agent ended it.': 'Ihr Berater hat sie beendet.',
  'you declined, and nothing was shared.': 'Sie haben abgelehnt, und nichts wurde geteilt.',
  'it reached its time limit.': 'sie hat ihr Zeitlimit erreicht.',
  'this page was closed for too long.': 'diese Seite war zu lange geschlossen.',
  'nothing happened for a while.': 'eine Weile ist nichts passiert.',
  'the code was not confirmed.': 'der Code wurde nicht bestätigt.',
  'That did not work. Try again, or tell your agent.': 'Das hat nicht geklappt. Versuchen Sie es erneut oder sagen Sie es Ihrem Berater.',
  'That address cannot be opened in this shared session.': 'Diese Adresse kann in dieser geteilten Sitzung nicht geöffnet werden.',
  'That page could not be opened in this shared session.': 'Diese Seite konnte in dieser geteilten Sitzung nicht geöffnet werden.',
};

const FR: Catalogue = {
  passwords: 'mots de passe',
  'payment card numbers': 'numéros de carte de paiement',
  'expiry dates and security codes': 'dates d’expiration et codes de sécurité',
  'bank account numbers (IBAN)': 'numéros de compte bancaire (IBAN)',
  'social security numbers': 'numéros de sécurité sociale',
  Customer: 'Client',
  'tool.pointer.on': 'Pointeur : les autres voient où vous pointez.',
  'tool.laser.on': 'Laser : déplacez-vous sur la page pour mettre en évidence.',
  'tool.draw.on': 'Dessin : faites glisser sur la page ; les traits s’effacent après quelques secondes.',
  'tool.show': 'Afficher les annotations',
  'tool.hide': 'Masquer les annotations',
  'tool.hidden': 'Les pointeurs et les dessins sont masqués.',
  'tool.shown': 'Les pointeurs et les dessins sont affichés.',
  'people.you': '{name} (vous)',
  'people.control': 'a le contrôle',
  'role.customer': 'client',
  'role.agent': 'conseiller',
  'role.supervisor': 'superviseur',
  'quality.unknown': 'connexion : mesure en cours',
  'quality.good': 'bonne connexion ({ms} ms)',
  'quality.fair': 'connexion moyenne ({ms} ms)',
  'quality.poor': 'connexion faible ({ms} ms)',
  Pointer: 'Pointeur',
  Laser: 'Laser',
  Draw: 'Dessiner',
  'Clear my drawings': 'Effacer mes dessins',
  'Pointing tools': 'Outils de pointage',
  People: 'Participants',
  Language: 'Langue',
  'Shared session': 'Session partagée',
  'Connecting…': 'Connexion…',
  'Code for your agent:': 'Code pour votre conseiller :',
  'Pause sharing': 'Suspendre le partage',
  'Resume sharing': 'Reprendre le partage',
  'Give control': 'Donner le contrôle',
  'Take back control': 'Reprendre le contrôle',
  'End session': 'Terminer la session',
  'Page navigation': 'Navigation',
  Back: 'Précédent',
  Forward: 'Suivant',
  Reload: 'Actualiser',
  Address: 'Adresse',
  Go: 'Ouvrir',
  'Share this page with': 'Partager cette page avec',
  from: 'de',
  asks: 'demande à',
  ask: 'demandent à',
  'to see this page with you:': 'voir cette page avec vous :',
  'Full address:': 'Adresse complète :',
  'What they will see:': 'Ce qu’ils verront :',
  'a live image of this page, rendered on our server. They never receive the page itself.': 'une image en direct de cette page, produite sur notre serveur. Ils ne reçoivent jamais la page elle-même.',
  'Hidden from them:': 'Masqué pour eux :',
  ', and other protected fields. You keep seeing your page as it is.': ' et autres champs protégés. Vous continuez à voir votre page telle quelle.',
  'To prove who you are talking to, read this code to your agent:': 'Pour confirmer à qui vous parlez, lisez ce code à votre conseiller :',
  'Only you control the page unless you give control. You can pause, take back control or end the session at any time.': 'Vous seul contrôlez la page, sauf si vous donnez le contrôle. Vous pouvez suspendre, reprendre le contrôle ou terminer la session à tout moment.',
  Decline: 'Refuser',
  'Accept and share': 'Accepter et partager',
  'Control request': 'Demande de contrôle',
  'Click a button to answer. What you type keeps going to the page.': 'Cliquez sur un bouton pour répondre. Ce que vous tapez continue d’aller à la page.',
  Refuse: 'Refuser',
  'Grant control': 'Accorder le contrôle',
  'Page proposal': 'Proposition de page',
  'Your agent proposes to open:': 'Votre conseiller propose d’ouvrir :',
  'Approve and open': 'Accepter et ouvrir',
  'Shared page (click it to use the page, keys go to the page while it has focus)': 'Page partagée (cliquez pour l’utiliser ; les touches vont à la page tant qu’elle a le focus)',
  'Waiting for the page…': 'En attente de la page…',
  Reconnect: 'Se reconnecter',
  'Try again': 'Réessayer',
  Notifications: 'Notifications',
  'Nothing yet.': 'Rien pour l’instant.',
  'our support team': 'notre équipe d’assistance',
  'An agent': 'Un conseiller',
  'passwords, card numbers': 'mots de passe, numéros de carte',
  'This session is recorded (already masked) for quality and compliance.': 'Cette session est enregistrée (déjà masquée) pour la qualité et la conformité.',
  'This session is not recorded.': 'Cette session n’est pas enregistrée.',
  'Waiting for your answer': 'En attente de votre réponse',
  'Waiting for your answer…': 'En attente de votre réponse…',
  'Sharing paused': 'Partage suspendu',
  'Viewing: {who}': 'Regardent : {who}',
  'nobody yet': 'personne pour l’instant',
  '{name} has control': '{name} a le contrôle',
  'Only you control the page': 'Vous seul contrôlez la page',
  'Session ended': 'Session terminée',
  'Link already used': 'Lien déjà utilisé',
  'Link expired': 'Lien expiré',
  // Customer-started sessions (embed.ts, the join code on the customer page)
  "Get help from an agent": "Obtenir l’aide d’un conseiller",
  "Your code for the agent": "Votre code pour le conseiller",
  "Open the sharing window": "Ouvrir la fenêtre de partage",
  "Close": "Fermer",
  "Starting…": "Démarrage…",
  "Help cannot start on this page right now. Please try again later.": "L’aide ne peut pas démarrer sur cette page pour le moment. Veuillez réessayer plus tard.",
  "Read this code to your agent. It works once, until {time}. Then open the sharing window: you decide there what they may see.": "Lisez ce code à votre conseiller. Il fonctionne une fois, jusqu’à {time}. Ouvrez ensuite la fenêtre de partage : vous y décidez de ce qu’il peut voir.",
  "Your agent types this code to join you. It works once, until {time}.": "Votre conseiller saisit ce code pour vous rejoindre. Il fonctionne une fois, jusqu’à {time}.",
  "Waiting for your agent to join…": "En attente de votre conseiller…",
  "Nobody sees your page before you accept.": "Personne ne voit votre page avant que vous acceptiez.",
  'Could not join': 'Connexion impossible',
  'Connection lost': 'Connexion perdue',
  'Link incomplete': 'Lien incomplet',
  'This link is incomplete. Ask your agent for a new one.': 'Ce lien est incomplet. Demandez-en un nouveau à votre conseiller.',
  '{name} asks to control the page: they could click and type in it for you.': '{name} demande le contrôle de la page : il ou elle pourrait cliquer et taper pour vous.',
  '{name} proposes to open this page:': '{name} propose d’ouvrir cette page :',
  'Page: {title}': 'Page : {title}',
  'End the session?': 'Terminer la session ?',
  'Your agent will stop seeing this page, and this link will stop working.': 'Votre conseiller ne verra plus cette page, et ce lien ne fonctionnera plus.',
  'Continue session': 'Continuer la session',
  'This link was already used. Ask your agent for a new one.': 'Ce lien a déjà été utilisé. Demandez-en un nouveau à votre conseiller.',
  'This link has expired. Ask your agent for a new one.': 'Ce lien a expiré. Demandez-en un nouveau à votre conseiller.',
  'This session has ended. If you still need help, ask your agent for a new one.': 'Cette session est terminée. Si vous avez encore besoin d’aide, demandez un nouveau lien à votre conseiller.',
  'This link does not work. Check that you opened the whole link, or ask your agent for a new one.': 'Ce lien ne fonctionne pas. Vérifiez que vous avez ouvert le lien entier, ou demandez-en un nouveau à votre conseiller.',
  'This session is already open in another window or tab. Close it there, then try again here.': 'Cette session est déjà ouverte dans une autre fenêtre ou un autre onglet. Fermez-la là-bas, puis réessayez ici.',
  'The connection was closed after too many refused actions. Try again in a moment.': 'La connexion a été fermée après trop d’actions refusées. Réessayez dans un instant.',
  'The connection to your agent was lost. Check your internet connection and try again.': 'La connexion avec votre conseiller a été perdue. Vérifiez votre connexion Internet et réessayez.',
  'Could not connect. Check your internet connection and try again.': 'Connexion impossible. Vérifiez votre connexion Internet et réessayez.',
  'you ended it.': 'vous l’avez terminée.',
  'your agent ended it.': 'votre conseiller l’a terminée.',
  'you declined, and nothing was shared.': 'vous avez refusé, et rien n’a été partagé.',
  'it reached its time limit.': 'elle a atteint sa durée maximale.',
  'this page was closed for too long.': 'cette page est restée fermée trop longtemps.',
  'nothing happened for a while.': 'rien ne s’est passé pendant un moment.',
  'the code was not confirmed.': 'le code n’a pas été confirmé.',
  'That did not work. Try again, or tell your agent.': 'Cela n’a pas fonctionné. Réessayez ou prévenez votre conseiller.',
  'That address cannot be opened in this shared session.': 'Cette adresse ne peut pas être ouverte dans cette session partagée.',
  'That page could not be opened in this shared session.': 'Cette page n’a pas pu être ouverte dans cette session partagée.',
};

const ES: Catalogue = {
  passwords: 'contraseñas',
  'payment card numbers': 'números de tarjeta de pago',
  'expiry dates and security codes': 'fechas de caducidad y códigos de seguridad',
  'bank account numbers (IBAN)': 'números de cuenta bancaria (IBAN)',
  'social security numbers': 'números de la seguridad social',
  Customer: 'Cliente',
  'tool.pointer.on': 'Puntero: los demás ven adónde apunta.',
  'tool.laser.on': 'Láser: muévase sobre la página para resaltar.',
  'tool.draw.on': 'Dibujar: arrastre sobre la página; los trazos se desvanecen tras unos segundos.',
  'tool.show': 'Mostrar anotaciones',
  'tool.hide': 'Ocultar anotaciones',
  'tool.hidden': 'Los punteros y dibujos están ocultos.',
  'tool.shown': 'Los punteros y dibujos se muestran.',
  'people.you': '{name} (usted)',
  'people.control': 'tiene el control',
  'role.customer': 'cliente',
  'role.agent': 'agente',
  'role.supervisor': 'supervisor',
  'quality.unknown': 'conexión: midiendo',
  'quality.good': 'buena conexión ({ms} ms)',
  'quality.fair': 'conexión regular ({ms} ms)',
  'quality.poor': 'conexión débil ({ms} ms)',
  Pointer: 'Puntero',
  Laser: 'Láser',
  Draw: 'Dibujar',
  'Clear my drawings': 'Borrar mis dibujos',
  'Pointing tools': 'Herramientas para señalar',
  People: 'Participantes',
  Language: 'Idioma',
  'Shared session': 'Sesión compartida',
  'Connecting…': 'Conectando…',
  'Code for your agent:': 'Código para su agente:',
  'Pause sharing': 'Pausar',
  'Resume sharing': 'Reanudar',
  'Give control': 'Ceder el control',
  'Take back control': 'Recuperar el control',
  'End session': 'Terminar sesión',
  'Page navigation': 'Navegación',
  Back: 'Atrás',
  Forward: 'Adelante',
  Reload: 'Recargar',
  Address: 'Dirección',
  Go: 'Abrir',
  'Share this page with': 'Compartir esta página con',
  from: 'de',
  asks: 'pide',
  ask: 'piden',
  'to see this page with you:': 'ver esta página con usted:',
  'Full address:': 'Dirección completa:',
  'What they will see:': 'Lo que verán:',
  'a live image of this page, rendered on our server. They never receive the page itself.': 'una imagen en directo de esta página, generada en nuestro servidor. Nunca reciben la página en sí.',
  'Hidden from them:': 'Oculto para ellos:',
  ', and other protected fields. You keep seeing your page as it is.': ' y otros campos protegidos. Usted sigue viendo su página tal cual.',
  'To prove who you are talking to, read this code to your agent:': 'Para confirmar con quién habla, lea este código a su agente:',
  'Only you control the page unless you give control. You can pause, take back control or end the session at any time.': 'Solo usted controla la página, salvo que ceda el control. Puede pausar, recuperar el control o terminar la sesión en cualquier momento.',
  Decline: 'Rechazar',
  'Accept and share': 'Aceptar y compartir',
  'Control request': 'Solicitud de control',
  'Click a button to answer. What you type keeps going to the page.': 'Pulse un botón para responder. Lo que escribe sigue llegando a la página.',
  Refuse: 'Rechazar',
  'Grant control': 'Conceder el control',
  'Page proposal': 'Propuesta de página',
  'Your agent proposes to open:': 'Su agente propone abrir:',
  'Approve and open': 'Aprobar y abrir',
  'Shared page (click it to use the page, keys go to the page while it has focus)': 'Página compartida (haga clic para usarla; las teclas van a la página mientras tiene el foco)',
  'Waiting for the page…': 'Esperando la página…',
  Reconnect: 'Reconectar',
  'Try again': 'Reintentar',
  Notifications: 'Notificaciones',
  'Nothing yet.': 'Nada todavía.',
  'our support team': 'nuestro equipo de soporte',
  'An agent': 'Un agente',
  'passwords, card numbers': 'contraseñas, números de tarjeta',
  'This session is recorded (already masked) for quality and compliance.': 'Esta sesión se graba (ya enmascarada) por calidad y cumplimiento.',
  'This session is not recorded.': 'Esta sesión no se graba.',
  'Waiting for your answer': 'Esperando su respuesta',
  'Waiting for your answer…': 'Esperando su respuesta…',
  'Sharing paused': 'Compartir en pausa',
  'Viewing: {who}': 'Viendo: {who}',
  'nobody yet': 'nadie todavía',
  '{name} has control': '{name} tiene el control',
  'Only you control the page': 'Solo usted controla la página',
  'Session ended': 'Sesión terminada',
  'Link already used': 'Enlace ya usado',
  'Link expired': 'Enlace caducado',
  // Customer-started sessions (embed.ts, the join code on the customer page)
  "Get help from an agent": "Obtener ayuda de un agente",
  "Your code for the agent": "Su código para el agente",
  "Open the sharing window": "Abrir la ventana para compartir",
  "Close": "Cerrar",
  "Starting…": "Iniciando…",
  "Help cannot start on this page right now. Please try again later.": "La ayuda no puede iniciarse en esta página ahora. Inténtelo de nuevo más tarde.",
  "Read this code to your agent. It works once, until {time}. Then open the sharing window: you decide there what they may see.": "Lea este código a su agente. Sirve una vez, hasta las {time}. Después abra la ventana para compartir: allí decide qué puede ver.",
  "Your agent types this code to join you. It works once, until {time}.": "Su agente escribe este código para unirse. Sirve una vez, hasta las {time}.",
  "Waiting for your agent to join…": "Esperando a que su agente se una…",
  "Nobody sees your page before you accept.": "Nadie ve su página antes de que usted acepte.",
  'Could not join': 'No se pudo entrar',
  'Connection lost': 'Conexión perdida',
  'Link incomplete': 'Enlace incompleto',
  'This link is incomplete. Ask your agent for a new one.': 'Este enlace está incompleto. Pida uno nuevo a su agente.',
  '{name} asks to control the page: they could click and type in it for you.': '{name} pide controlar la página: podría hacer clic y escribir en ella por usted.',
  '{name} proposes to open this page:': '{name} propone abrir esta página:',
  'Page: {title}': 'Página: {title}',
  'End the session?': '¿Terminar la sesión?',
  'Your agent will stop seeing this page, and this link will stop working.': 'Su agente dejará de ver esta página y este enlace dejará de funcionar.',
  'Continue session': 'Continuar la sesión',
  'This link was already used. Ask your agent for a new one.': 'Este enlace ya se usó. Pida uno nuevo a su agente.',
  'This link has expired. Ask your agent for a new one.': 'Este enlace ha caducado. Pida uno nuevo a su agente.',
  'This session has ended. If you still need help, ask your agent for a new one.': 'Esta sesión ha terminado. Si aún necesita ayuda, pida un enlace nuevo a su agente.',
  'This link does not work. Check that you opened the whole link, or ask your agent for a new one.': 'Este enlace no funciona. Compruebe que abrió el enlace completo o pida uno nuevo a su agente.',
  'This session is already open in another window or tab. Close it there, then try again here.': 'Esta sesión ya está abierta en otra ventana o pestaña. Ciérrela allí y vuelva a intentarlo aquí.',
  'The connection was closed after too many refused actions. Try again in a moment.': 'La conexión se cerró tras demasiadas acciones rechazadas. Inténtelo de nuevo en un momento.',
  'The connection to your agent was lost. Check your internet connection and try again.': 'Se perdió la conexión con su agente. Compruebe su conexión a Internet e inténtelo de nuevo.',
  'Could not connect. Check your internet connection and try again.': 'No se pudo conectar. Compruebe su conexión a Internet e inténtelo de nuevo.',
  'you ended it.': 'usted la terminó.',
  'your agent ended it.': 'su agente la terminó.',
  'you declined, and nothing was shared.': 'usted rechazó y no se compartió nada.',
  'it reached its time limit.': 'alcanzó su límite de tiempo.',
  'this page was closed for too long.': 'esta página estuvo cerrada demasiado tiempo.',
  'nothing happened for a while.': 'no pasó nada durante un rato.',
  'the code was not confirmed.': 'el código no se confirmó.',
  'That did not work. Try again, or tell your agent.': 'Eso no funcionó. Inténtelo de nuevo o avise a su agente.',
  'That address cannot be opened in this shared session.': 'Esa dirección no se puede abrir en esta sesión compartida.',
  'That page could not be opened in this shared session.': 'Esa página no se pudo abrir en esta sesión compartida.',
};

const CATALOGUES: Record<Lang, Catalogue> = { en: EN_KEYS, de: DE, fr: FR, es: ES };

/** The first of the browser's languages we have, else English; a stored choice wins. */
export function pickLanguage(preferred: readonly string[] = navigator.languages ?? [navigator.language]): Lang {
  try {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored && stored in LANGUAGES) return stored as Lang;
  } catch {
    // storage may be off; the browser's language then decides
  }
  for (const l of preferred) {
    const base = l.toLowerCase().split('-')[0]!;
    if (base in LANGUAGES) return base as Lang;
  }
  return 'en';
}

let lang: Lang = typeof navigator === 'undefined' ? 'en' : pickLanguage();

export function currentLanguage(): Lang {
  return lang;
}

/** The text for `key` in the current language (English when missing), with {name} filled in. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const text = CATALOGUES[lang][key] ?? EN_KEYS[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** Whether the catalogue of `l` has an entry for `key` (tests and completeness checks). */
export function hasEntry(l: Lang, key: string): boolean {
  return key in CATALOGUES[l];
}

const originals = new WeakMap<Node, string>();
const ATTRS = ['aria-label', 'title', 'placeholder'] as const;

/** Translates the page's static text and labels (once at load, again on a language switch). */
export function translatePage(root: HTMLElement = document.body): void {
  document.documentElement.lang = lang;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = n.parentElement;
    if (!parent || parent.closest('[data-no-i18n], script, style, #log')) continue;
    const original = originals.get(n) ?? n.textContent ?? '';
    const trimmed = original.trim();
    if (!trimmed || !(trimmed in DE)) continue;
    originals.set(n, original);
    n.textContent = original.replace(trimmed, t(trimmed));
  }
  for (const el of root.querySelectorAll<HTMLElement>('[aria-label], [title], [placeholder]')) {
    for (const a of ATTRS) {
      const key = `data-i18n-${a}`;
      const original = el.getAttribute(key) ?? el.getAttribute(a);
      if (!original || !(original in DE)) continue;
      el.setAttribute(key, original);
      el.setAttribute(a, t(original));
    }
  }
  document.documentElement.style.setProperty('--empty-log', `"${t('Nothing yet.').replace(/"/g, '')}"`);
}

/** Fills the language switch (a labelled select) and applies a choice at once. */
export function wireLanguageSwitch(select: HTMLSelectElement, onChange: () => void): void {
  select.replaceChildren(
    ...(Object.entries(LANGUAGES) as [Lang, string][]).map(([code, name]) => {
      const o = document.createElement('option');
      o.value = code;
      o.textContent = name;
      o.lang = code;
      o.selected = code === lang;
      return o;
    }),
  );
  select.addEventListener('change', () => {
    lang = select.value as Lang;
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch {
      // not kept; applies to this page only
    }
    translatePage();
    onChange();
  });
}
