import ArgumentParser

/// The data a run trains on (`--task`).
public enum TaskKind: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// scikit-learn's 8×8 digits, label-skewed over 100 clients (built in).
  case digits
  /// Genre of a Shakespeare speech (comedy, history, tragedy); clients are (play, role)
  /// pairs. Needs `Scripts/fetch-assets`.
  case shakespeareGenre = "shakespeare-genre"
  /// The topic of a conversation's prompt (machines, hypotheticals, personal) from one
  /// participant's messages in it; clients are participants (BYU Chit-Chat Challenge). Needs
  /// `Scripts/fetch-assets`.
  case chitchatTopic = "chitchat-topic"
  /// The user's own JSON Lines file (`--data`).
  case jsonl
}

/// What a text task holds out for evaluation (`--evaluation-split`).
public enum EvaluationSplit: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// Plays never seen in training.
  case heldOutPlays = "held-out-plays"
  /// The last lines of roles seen in training.
  case heldOutLines = "held-out-lines"
}
