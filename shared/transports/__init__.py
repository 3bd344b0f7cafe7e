"""Bus transports: RabbitMQ (`amqp`) and the in-process broker of the embedded run (`memory`)."""
